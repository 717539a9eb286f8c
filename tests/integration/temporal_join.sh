#!/usr/bin/env bash
# Event-time temporal joins (JOIN v FOR SYSTEM_TIME AS OF l.ts) against a versioned table: random
# inputs compared with sqlite3's batch evaluation (temporal_join.py).
#
# Usage: bash temporal_join.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
section "temporal join vs sqlite3 on random data"
if ! "$PY" "$ROOT/tests/integration/temporal_join.py" "$EDDY" "$WORK"; then
  bad "the temporal join differs from sqlite3"
fi
finish
