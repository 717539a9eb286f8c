#!/usr/bin/env bash
# Regular joins of two streams (INNER/LEFT/RIGHT/FULL, updating input): the materialized changelog
# on random data compared with sqlite3 (regular_join.py).
#
# Usage: bash regular_join.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
section "regular joins vs sqlite3 on random data"
if ! "$PY" "$ROOT/tests/integration/regular_join.py" "$EDDY" "$WORK"; then
  bad "a regular join differs from sqlite3"
fi
finish
