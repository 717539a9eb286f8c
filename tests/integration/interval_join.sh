#!/usr/bin/env bash
# Interval joins of two streams: random out-of-order inputs compared with sqlite3's batch join
# (interval_join.py).
#
# Usage: bash interval_join.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
section "interval join vs sqlite3 on random data"
if ! "$PY" "$ROOT/tests/integration/interval_join.py" "$EDDY" "$WORK"; then
  bad "the interval join differs from sqlite3"
fi
finish
