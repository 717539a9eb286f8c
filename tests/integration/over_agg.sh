#!/usr/bin/env bash
# OVER aggregation: a random out-of-order stream compared with sqlite3's window functions
# (over_agg.py).
#
# Usage: bash over_agg.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
section "OVER aggregation vs sqlite3 on random data"
if ! "$PY" "$ROOT/tests/integration/over_agg.py" "$EDDY" "$WORK"; then
  bad "OVER aggregation differs from sqlite3"
fi
finish
