#!/usr/bin/env bash
# Checkpoint faults (issue: fault tolerance):
#   * a corrupted latest checkpoint: the restore falls back to the previous one with a log line
#     and the output is still exactly the reference; with every checkpoint corrupted the job
#     fails clearly instead of starting over (which could publish results twice);
#   * a full disk during checkpoints (a small tmpfs): checkpoints fail, the job keeps running and
#     reports them, and checkpoints succeed again once space is back;
#   * a checkpoint directory that cannot be written (a read-only tmpfs): a clear error at start.
# The tmpfs mounts use `unshare -rm` when not root; without either the two cases are skipped with
# a message (and fail under CI=true).
#
# Usage: bash checkpoint_faults.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib/common.sh"
cd "$WORK"

# A CSV of the flights three times over (about 1.5 M rows, a few seconds of work).
"$PY" - "$FLIGHTS" "$WORK/big.csv" <<'PYEOF'
import gzip, sys
rows = gzip.open(sys.argv[1], "rt").read().splitlines()[1:]
with open(sys.argv[2], "w") as f:
    for year in (2001, 2002, 2003):
        # Each copy in its own year: a new stretch of event time.
        for r in rows:
            f.write("%d%s\n" % (year, r[4:]))
PYEOF

job() {  # job OUT_DIR : the SQL of the job writing to OUT_DIR/delays.csv
  cat <<EOF
CREATE TABLE flights (\`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING,
  destination STRING, WATERMARK FOR \`date\` AS \`date\` - INTERVAL '5' MINUTE)
  WITH ('connector' = 'filesystem', 'path' = '$WORK/big.csv', 'format' = 'csv');
CREATE TABLE out (origin STRING, window_start TIMESTAMP(3), flights BIGINT, max_delay INT)
  WITH ('connector' = 'filesystem', 'path' = '$1/delays.csv', 'format' = 'csv');
INSERT INTO out SELECT origin, window_start, COUNT(*), MAX(delay)
FROM TABLE(TUMBLE(TABLE flights, DESCRIPTOR(\`date\`), INTERVAL '1' HOUR))
GROUP BY origin, window_start, window_end;
EOF
}

mkdir -p ref
job ref >ref.sql
"$EDDY" run ref.sql -q || { bad "reference run failed"; finish; }
sort ref/delays.csv >ref.sorted
ok "reference: $(wc -l <ref.sorted) rows"

section "a corrupted latest checkpoint"
mkdir -p c1
job c1 >c1.sql
CP="--set execution.checkpointing.interval=30ms --set execution.checkpointing.num-retained=3"
# Run until at least two checkpoints are complete, then kill.
"$EDDY" run c1.sql -q $CP --set execution.checkpointing.dir="$WORK/cp1" 2>c1.err &
pid=$!
for ((i = 0; i < 300; i++)); do
  n=$(find "$WORK/cp1" -name _metadata 2>/dev/null | wc -l || true)
  ((n >= 2)) && break
  sleep 0.02
done
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
mapfile -t chks < <(find "$WORK/cp1" -name _metadata -printf '%h\n' | sort -t- -k2 -n)
if ((${#chks[@]} < 2)); then
  bad "fewer than two complete checkpoints before the kill (${#chks[@]})"
else
  latest=${chks[-1]}
  f=$(ls "$latest"/*.state | head -1)
  printf '\xff' | dd of="$f" bs=1 seek=20 conv=notrunc 2>/dev/null
  RC=0
  "$EDDY" run c1.sql -q $CP --set execution.checkpointing.dir="$WORK/cp1" --from-checkpoint latest \
    2>c1b.err || RC=$?
  if [[ $RC == 0 ]]; then ok "the restart finished"; else bad "restart exit code $RC: $(tail -2 c1b.err)"; fi
  if grep -q "$(basename "$latest") cannot be restored" c1b.err && grep -q "trying the previous one" c1b.err; then
    ok "the log names the corrupt checkpoint and falls back"
  else bad "no fallback line in the log: $(head -3 c1b.err)"; fi
  if cmp -s ref.sorted <(sort c1/delays.csv); then ok "output equals the reference"; else
    bad "output differs from the reference"
  fi
fi

section "every checkpoint corrupted: a clear failure, no fresh start"
mkdir -p c2
job c2 >c2.sql
"$EDDY" run c2.sql -q $CP --set execution.checkpointing.dir="$WORK/cp2" 2>/dev/null &
pid=$!
for ((i = 0; i < 300; i++)); do
  (($(find "$WORK/cp2" -name _metadata 2>/dev/null | wc -l || true) >= 1)) && break
  sleep 0.02
done
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
for f in "$WORK"/cp2/*/chk-*/*.state; do printf '\xff' | dd of="$f" bs=1 seek=20 conv=notrunc 2>/dev/null; done
RC=0
"$EDDY" run c2.sql -q $CP --set execution.checkpointing.dir="$WORK/cp2" --from-checkpoint latest \
  2>c2b.err || RC=$?
if [[ $RC == 1 ]] && grep -q "no checkpoint of .* can be restored" c2b.err; then
  ok "clear failure: $(grep -m1 -o 'no checkpoint of [^:]*' c2b.err)"
else bad "exit code $RC: $(tail -3 c2b.err)"; fi

# in_tmpfs SIZE OPTS CMD... : runs CMD with a fresh tmpfs mounted on $WORK/fs.
MOUNT=""
if [[ $(id -u) == 0 ]] && mkdir -p "$WORK/probe" && mount -t tmpfs -o size=64k tmpfs "$WORK/probe" 2>/dev/null; then
  umount "$WORK/probe"
  MOUNT=root
elif unshare -rm true 2>/dev/null; then
  MOUNT=userns
fi

section "a full disk during checkpoints"
if [[ -z "$MOUNT" ]]; then
  [[ "${CI:-}" == true ]] && bad "cannot mount a tmpfs (neither root nor user namespaces)"
  echo "  skipped: cannot mount a tmpfs here"
else
  mkdir -p "$WORK/fs" c3
  job c3 >c3.sql
  cat >full.sh <<EOF
set -e
mount -t tmpfs -o size=256k tmpfs "$WORK/fs"
# Fill the disk: the first checkpoints cannot be written.
dd if=/dev/zero of="$WORK/fs/filler" bs=4k count=64 2>/dev/null || true
"$EDDY" run "$WORK/c3.sql" $CP --set execution.checkpointing.dir="$WORK/fs/cp" --no-progress \
  >"$WORK/c3.out" 2>"$WORK/c3.err" &
pid=\$!
# Space is back once two checkpoints have failed (polled: a fixed sleep outlasted the whole job
# on a fast machine, so no checkpoint ever completed).
for ((i = 0; i < 1000; i++)); do
  (( \$(grep -c "No space left on device" "$WORK/c3.err" 2>/dev/null || true) >= 2 )) && break
  sleep 0.005
done
rm -f "$WORK/fs/filler"
wait \$pid
EOF
  RC=0
  if [[ $MOUNT == root ]]; then
    unshare -m bash full.sh || RC=$?
  else
    unshare -rm bash full.sh || RC=$?
  fi
  if [[ $RC == 0 ]]; then ok "the job finished"; else bad "exit code $RC: $(tail -3 c3.err)"; fi
  if grep -q "failed: .*No space left on device.*the job goes on" c3.err; then
    ok "failed checkpoints are logged (no space left on device) and the job went on"
  else bad "no failed-checkpoint line: $(grep -m2 checkpoint c3.err)"; fi
  if grep -Eq "checkpoints: [1-9][0-9]* completed, [1-9][0-9]* failed" c3.err; then
    ok "summary: $(grep -o 'checkpoints: .*' c3.err)"
  else bad "summary: $(grep -o 'checkpoints: .*' c3.err || echo none)"; fi
  if cmp -s ref.sorted <(sort c3/delays.csv); then ok "output equals the reference"; else bad "output differs"; fi
fi

section "a checkpoint directory that cannot be written"
if [[ -z "$MOUNT" ]]; then
  [[ "${CI:-}" == true ]] && bad "cannot mount a tmpfs (neither root nor user namespaces)"
  echo "  skipped: cannot mount a tmpfs here"
else
  mkdir -p c4
  job c4 >c4.sql
  cat >ro.sh <<EOF
mount -t tmpfs -o ro,size=64k tmpfs "$WORK/fs"
exec "$EDDY" run "$WORK/c4.sql" -q $CP --set execution.checkpointing.dir="$WORK/fs/cp"
EOF
  RC=0
  if [[ $MOUNT == root ]]; then
    unshare -m bash ro.sh 2>c4.err || RC=$?
  else
    unshare -rm bash ro.sh 2>c4.err || RC=$?
  fi
  if [[ $RC == 1 ]] && grep -Eq "checkpoint directory .* cannot be (written|created)" c4.err; then
    ok "clear error at start: $(grep -Eo "cannot be (written|created): .*" c4.err | head -1)"
  else bad "exit code $RC: $(tail -2 c4.err)"; fi
fi

finish
