#!/usr/bin/env bash
# Exactly-once `eddy run` through SIGKILL for a MATCH_RECOGNIZE query (partial matches in the
# checkpointed state) and an interval join (both sides' rows and timers in the state): the checks
# are in crash_file_job.py (scenario cep-join). The CI-sized run kills the jobs 20 times over the
# shipped 508,239-row flights file; EDDY_CRASH_LONG=1 (make test-long) kills them 60 times over
# the 3 M-row file of ../shared/data when it is there.
#
# Usage: bash cep_join_job.sh <path-to-eddy> <repo-root>
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
section "MATCH_RECOGNIZE and an interval join with checkpoints, killed $kills times ($(basename "$data"))"
if out=$(timeout 1500 "$PY" "$ROOT/tests/crash/crash_file_job.py" "$EDDY" "$ROOT" "$WORK" "$data" \
  "$kills" 11 cep-join 2>&1); then
  echo "$out" | sed 's/^/  /'
else
  bad "exactly-once through SIGKILL:"
  echo "$out" | tail -30 | sed 's/^/    | /'
fi
finish
