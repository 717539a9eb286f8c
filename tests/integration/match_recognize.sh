#!/usr/bin/env bash
# MATCH_RECOGNIZE, ONE ROW PER MATCH and ALL ROWS PER MATCH: random out-of-order rows compared
# with a naive backtracking matcher in Python (match_recognize.py).
#
# Usage: bash match_recognize.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
section "MATCH_RECOGNIZE vs a backtracking reference on random data"
if ! "$PY" "$ROOT/tests/integration/match_recognize.py" "$EDDY" "$WORK"; then
  bad "MATCH_RECOGNIZE differs from the reference matcher"
fi
finish
