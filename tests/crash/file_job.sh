#!/usr/bin/env bash
# Exactly-once `eddy run` through SIGKILL: the checks are in crash_file_job.py. The CI-sized run
# kills the job 20 times over the shipped 508,239-row flights file; EDDY_CRASH_LONG=1 (make
# test-long) kills it 60 times over the 3 M-row file of ../shared/data when it is there.
#
# Usage: bash file_job.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib/common.sh"
data="$FLIGHTS"
kills=20
if [[ "${EDDY_CRASH_LONG:-}" == 1 ]]; then
  kills=60
  if [[ -f "$ROOT/../shared/data/flights-3m.csv.gz" ]]; then
    data=$(realpath "$ROOT/../shared/data/flights-3m.csv.gz")
  fi
fi
section "eddy run with checkpoints, killed $kills times ($(basename "$data"))"
if out=$(timeout 1500 "$PY" "$ROOT/tests/crash/crash_file_job.py" "$EDDY" "$ROOT" "$WORK" "$data" \
  "$kills" 7 2>&1); then
  echo "$out" | sed 's/^/  /'
else
  bad "exactly-once through SIGKILL:"
  echo "$out" | tail -30 | sed 's/^/    | /'
fi
finish
